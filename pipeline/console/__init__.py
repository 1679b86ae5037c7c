"""The live warning console: a board built from the warnings topic, served by the worker's web server."""
