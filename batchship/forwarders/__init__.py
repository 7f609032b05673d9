"""Booking parcels with forwarders and shipping gateways over HTTP, driven by mapping files
(templates/carriers/*.toml, or the workspace's own templates/carriers/)."""
