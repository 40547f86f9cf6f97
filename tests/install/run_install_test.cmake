# Driver of the install test, run with cmake -P: install -> configure consumer -> build -> run.
# Each step fails the test with the step's own output, so a broken package says where it broke.
# Inputs (-D): BUILD_DIR PREFIX CONSUMER_SOURCE CONSUMER_BUILD GENERATOR MAKE_PROGRAM
# CXX_COMPILER CUDA_ROOT (empty for a CPU-only build).
cmake_minimum_required(VERSION 3.25)

function(step name)
  message(STATUS "install test: ${name}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "install test: '${name}' failed (${result}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# Fresh prefix and consumer build every run: a stale install must not hide a missing file.
file(REMOVE_RECURSE ${PREFIX} ${CONSUMER_BUILD})

step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})

set(configure_args -S ${CONSUMER_SOURCE} -B ${CONSUMER_BUILD} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CUDA_ROOT)
  list(APPEND configure_args -DCUDAToolkit_ROOT=${CUDA_ROOT})
endif()
step("configure consumer" ${CMAKE_COMMAND} ${configure_args})
step("build consumer" ${CMAKE_COMMAND} --build ${CONSUMER_BUILD})
step("run consumer" ${CONSUMER_BUILD}/cusbi_consumer)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "OK")
  message(FATAL_ERROR "install test: the consumer ran but did not print OK")
endif()
