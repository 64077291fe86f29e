"""The published contracts, as JSON Schema: the event subscribers receive and each body Zenoti gets back.

The *.schema.json files beside this module are generated from the models (`make schema`) and
committed; `make check-schema` fails when a model no longer gives the committed file. Nothing here
ships to Lambda.
"""
