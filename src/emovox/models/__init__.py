"""Models: classical pipelines (classical), ensembles (ensemble) and the model-directory store (store)."""
