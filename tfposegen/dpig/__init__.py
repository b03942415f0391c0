"""DPIG: ``--model`` table (``models``), losses, training (``train``), testing (``test``) and
the scorers' metrics (``scores``)."""
