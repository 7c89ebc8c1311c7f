"""Converters from the raw public files to the canonical dataset (one module per dataset).

Each module runs as a script (``python -m data_prep.wwt --input ... --output ...``) and has a
``convert(...)`` function; each writes ``<output>/train`` (and ``<output>/test`` where the paper
splits) as :class:`doppelganger_tf.Dataset` directories plus ``<output>/report.json`` saying what
was kept and dropped and why.
"""
