# Empty compiler generated dependencies file for test_op_dwconv.
# This may be replaced when dependencies are built.
