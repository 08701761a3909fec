"""Stream jobs (faust-streaming agents). Each job is a pure ``logic`` module and a thin
``job`` module that decodes, calls the logic and writes; ``app`` wires them into one app."""
