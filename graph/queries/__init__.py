"""Every Cypher statement the API reads with, named and parameterised, one module per concern.

`graph.queries.runner` runs them in read transactions, counts them per request and caches their
results for as long as the loaded sources do not change.
"""
