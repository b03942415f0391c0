"""Parsing maps made from photos, with DGP's label values (:mod:`tfposegen.parsing.labels`):
``tfposegen.parsing.model`` (the model parse: background, arms, trunk, hair) and
``tfposegen.parsing.cloth`` (the garment parse). Import the submodules directly."""
