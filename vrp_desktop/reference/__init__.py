"""Reference data the VRP publishes to every workspace, signed like its framework packs."""
