"""python -m batchship.forwarder_sim --port N: the simulator alone, without the rest of batchship."""
import argparse
import sys

from .runner import add_arguments, run_from_args

parser = argparse.ArgumentParser(prog="python -m batchship.forwarder_sim")
add_arguments(parser)
sys.exit(run_from_args(parser.parse_args()))
