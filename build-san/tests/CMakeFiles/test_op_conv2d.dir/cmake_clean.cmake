file(REMOVE_RECURSE
  "CMakeFiles/test_op_conv2d.dir/test_op_conv2d.c.o"
  "CMakeFiles/test_op_conv2d.dir/test_op_conv2d.c.o.d"
  "test_op_conv2d"
  "test_op_conv2d.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_conv2d.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
