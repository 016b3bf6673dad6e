# Empty compiler generated dependencies file for test_model_tiny.
# This may be replaced when dependencies are built.
