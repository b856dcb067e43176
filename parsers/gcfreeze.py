"""Imported last by the forkserver that a local Dask cluster's workers are forked from (see
inspector.analysis.cluster): everything loaded so far (Dask, the decoder) moves to the
collector's permanent generation, so the workers' full collections do not walk it again and
again, and the forked pages holding it are not copied by the collector's writes."""

import gc

gc.freeze()
