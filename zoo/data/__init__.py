"""Datasets: one module per source, each returning arrays or tf.data pipelines with one schema per task."""
