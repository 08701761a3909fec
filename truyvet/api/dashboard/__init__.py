"""The operations room's dashboard: the static page (``static/``) and the pipeline figures it
polls."""
