"""Dead-letter monitor: every refused input of every stage, counted by stage and reason."""
