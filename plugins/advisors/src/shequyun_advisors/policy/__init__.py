"""The policy pool's engine: schema, loader, Python evaluator, SQL compiler, YAML cases."""
