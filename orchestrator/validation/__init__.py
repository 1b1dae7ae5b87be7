"""Request validation: the botocore service model's constraints, then our cross-field rules."""
