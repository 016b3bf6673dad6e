file(REMOVE_RECURSE
  "CMakeFiles/effcam.dir/lib/api.c.o"
  "CMakeFiles/effcam.dir/lib/api.c.o.d"
  "CMakeFiles/effcam.dir/lib/ecw_read.c.o"
  "CMakeFiles/effcam.dir/lib/ecw_read.c.o.d"
  "CMakeFiles/effcam.dir/lib/engine.c.o"
  "CMakeFiles/effcam.dir/lib/engine.c.o.d"
  "CMakeFiles/effcam.dir/lib/graph.c.o"
  "CMakeFiles/effcam.dir/lib/graph.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/act.c.o"
  "CMakeFiles/effcam.dir/lib/ops/act.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/add.c.o"
  "CMakeFiles/effcam.dir/lib/ops/add.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/conv2d.c.o"
  "CMakeFiles/effcam.dir/lib/ops/conv2d.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/dwconv.c.o"
  "CMakeFiles/effcam.dir/lib/ops/dwconv.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/f16.c.o"
  "CMakeFiles/effcam.dir/lib/ops/f16.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/gap.c.o"
  "CMakeFiles/effcam.dir/lib/ops/gap.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/pwconv.c.o"
  "CMakeFiles/effcam.dir/lib/ops/pwconv.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/se.c.o"
  "CMakeFiles/effcam.dir/lib/ops/se.c.o.d"
  "CMakeFiles/effcam.dir/lib/ops/softmax.c.o"
  "CMakeFiles/effcam.dir/lib/ops/softmax.c.o.d"
  "CMakeFiles/effcam.dir/lib/plan.c.o"
  "CMakeFiles/effcam.dir/lib/plan.c.o.d"
  "CMakeFiles/effcam.dir/lib/status.c.o"
  "CMakeFiles/effcam.dir/lib/status.c.o.d"
  "libeffcam.a"
  "libeffcam.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/effcam.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
