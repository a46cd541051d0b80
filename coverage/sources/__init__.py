"""Readers that turn files and OSM into the region's layers."""
