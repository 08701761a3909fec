"""The tracer workbench: the page tracers work on (``static/``), served at ``/workbench/``."""
