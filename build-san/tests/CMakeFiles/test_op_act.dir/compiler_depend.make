# Empty compiler generated dependencies file for test_op_act.
# This may be replaced when dependencies are built.
