file(REMOVE_RECURSE
  "libeffcam.a"
)
