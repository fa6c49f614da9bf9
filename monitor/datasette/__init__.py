"""Datasette metadata and plugin shipped with monitor."""
