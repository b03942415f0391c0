"""Parsing maps made from photos, with DGP's label values (``reference/dgp_stylegan2.md``
6.3): ``tfposegen.parsing.model`` (the model parse: background, arms, trunk, hair) and
``tfposegen.parsing.cloth`` (the garment parse). Import the submodules directly."""
