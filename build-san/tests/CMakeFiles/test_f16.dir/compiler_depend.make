# Empty compiler generated dependencies file for test_f16.
# This may be replaced when dependencies are built.
