-- The store's schema as batchship created it before versioned migrations (SQLite).
CREATE TABLE IF NOT EXISTS orders (shop TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL DEFAULT '', platform TEXT NOT NULL DEFAULT '', stage TEXT NOT NULL DEFAULT '', held_at TEXT NOT NULL DEFAULT '', hold_reason TEXT NOT NULL DEFAULT '', failure_reason TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '', warehouse TEXT NOT NULL DEFAULT '', tracking_number TEXT NOT NULL DEFAULT '', stock_status TEXT NOT NULL DEFAULT '', paid_at TEXT NOT NULL DEFAULT '', recipient_name TEXT NOT NULL DEFAULT '', address1 TEXT NOT NULL DEFAULT '', address2 TEXT NOT NULL DEFAULT '', city TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '', postcode TEXT NOT NULL DEFAULT '', country TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', currency TEXT NOT NULL DEFAULT '', order_total TEXT NOT NULL DEFAULT '', goods_value TEXT NOT NULL DEFAULT '', platform_status TEXT NOT NULL DEFAULT '', shipping_service TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '', printed TEXT NOT NULL DEFAULT '', printed_run TEXT NOT NULL DEFAULT '', ignored_failure TEXT NOT NULL DEFAULT '', merge TEXT NOT NULL DEFAULT '', merged_into TEXT NOT NULL DEFAULT '', split TEXT NOT NULL DEFAULT '', split_of TEXT NOT NULL DEFAULT '', source_file TEXT NOT NULL DEFAULT '', source_row INTEGER, created_run TEXT NOT NULL DEFAULT '', updated_run TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop, order_id));
CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage);
CREATE INDEX IF NOT EXISTS orders_tracking ON orders(tracking_number);
CREATE TABLE IF NOT EXISTS lines (shop TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL DEFAULT '', line_no INTEGER, item_id TEXT NOT NULL DEFAULT '', platform_sku TEXT NOT NULL DEFAULT '', sku TEXT NOT NULL DEFAULT '', quantity INTEGER, platform_line INTEGER, platform_quantity INTEGER, unit_price TEXT NOT NULL DEFAULT '', raw TEXT NOT NULL DEFAULT '', source_file TEXT NOT NULL DEFAULT '', source_row INTEGER, declared_name_en TEXT NOT NULL DEFAULT '', declared_name_cn TEXT NOT NULL DEFAULT '', declared_value TEXT NOT NULL DEFAULT '', declared_currency TEXT NOT NULL DEFAULT '', weight_g INTEGER, hs_code TEXT NOT NULL DEFAULT '', origin_country TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop, order_id, line_no));
CREATE TABLE IF NOT EXISTS products (sku TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '', declared_name_en TEXT NOT NULL DEFAULT '', declared_name_cn TEXT NOT NULL DEFAULT '', declared_value TEXT NOT NULL DEFAULT '', declared_currency TEXT NOT NULL DEFAULT '', weight_g INTEGER, hs_code TEXT NOT NULL DEFAULT '', origin_country TEXT NOT NULL DEFAULT '', source_file TEXT NOT NULL DEFAULT '', source_row INTEGER,
    PRIMARY KEY (sku));
CREATE TABLE IF NOT EXISTS pairing (shop TEXT NOT NULL, platform_sku TEXT NOT NULL, sku TEXT NOT NULL,
    quantity INTEGER NOT NULL, source_file TEXT, source_row INTEGER, PRIMARY KEY (shop, platform_sku, sku));
CREATE TABLE IF NOT EXISTS stock_places (warehouse TEXT NOT NULL, sku TEXT NOT NULL, shelf TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (warehouse, sku));
CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
    warehouse TEXT NOT NULL, sku TEXT NOT NULL, delta INTEGER NOT NULL, cause TEXT NOT NULL,
    reference TEXT NOT NULL, source_file TEXT NOT NULL DEFAULT '', source_row INTEGER);
CREATE INDEX IF NOT EXISTS ledger_place ON ledger(warehouse, sku);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_once ON ledger(cause, reference, warehouse, sku)
    WHERE cause = 'ship';
CREATE TABLE IF NOT EXISTS pool (tracking_number TEXT PRIMARY KEY, channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'free', shop TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL DEFAULT '',
    issued_run TEXT NOT NULL DEFAULT '', source_file TEXT NOT NULL DEFAULT '', source_row INTEGER);
CREATE INDEX IF NOT EXISTS pool_free ON pool(channel, status);
CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    platform TEXT NOT NULL, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL,
    committed_at TEXT NOT NULL DEFAULT '', finished_at TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS run_files (run_id TEXT NOT NULL, claimed_path TEXT NOT NULL, name TEXT NOT NULL,
    outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', problems TEXT NOT NULL DEFAULT '[]',
    sha256 TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, claimed_path));
CREATE TABLE IF NOT EXISTS bookings (reference TEXT PRIMARY KEY, shop TEXT NOT NULL, order_id TEXT NOT NULL,
    channel TEXT NOT NULL, forwarder TEXT NOT NULL, state TEXT NOT NULL, tracking_number TEXT NOT NULL DEFAULT '',
    shipment_id TEXT NOT NULL DEFAULT '', label_path TEXT NOT NULL DEFAULT '', label_problem TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, run_id TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS bookings_order ON bookings(shop, order_id);
CREATE TABLE IF NOT EXISTS rule_sets (kind TEXT NOT NULL, run_id TEXT NOT NULL, source_file TEXT NOT NULL,
    rules TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (kind, run_id));
CREATE TABLE IF NOT EXISTS decisions (run_id TEXT NOT NULL, source_file TEXT NOT NULL, source_row INTEGER,
    shop TEXT NOT NULL, order_id TEXT NOT NULL, action TEXT NOT NULL, argument TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '', result TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', decision_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_run ON decisions(run_id);
CREATE INDEX IF NOT EXISTS decisions_order ON decisions(shop, order_id);
CREATE TABLE IF NOT EXISTS blacklist (field TEXT NOT NULL, value TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    source_file TEXT NOT NULL DEFAULT '', source_row INTEGER, PRIMARY KEY (field, value));
CREATE TABLE IF NOT EXISTS events (run_id TEXT NOT NULL, shop TEXT NOT NULL, order_id TEXT NOT NULL,
    event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
CREATE TABLE IF NOT EXISTS uploads (shop TEXT NOT NULL, order_id TEXT NOT NULL, tracking_number TEXT NOT NULL,
    run_id TEXT NOT NULL, PRIMARY KEY (shop, order_id, tracking_number));
