# Empty compiler generated dependencies file for test_op_misc.
# This may be replaced when dependencies are built.
