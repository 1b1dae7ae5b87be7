"""Search over training jobs: the SearchExpression grammar compiled to SQL."""
