# The sbibm task data files (bench/validation/data/sbibm_<task>.safetensors) that
# cusbi::tasks::get_task reads from data/tasks/ next to the running executable (or from
# $CUSBI_TASK_DATA). Include this file, then call cusbi_copy_task_data(<target>) for each
# executable that uses get_task: after each build of <target> the files are copied (when
# changed) to $<TARGET_FILE_DIR:<target>>/data/tasks/.
set(CUSBI_TASK_DATA_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/../bench/validation/data)

function(cusbi_copy_task_data target)
  file(GLOB task_files CONFIGURE_DEPENDS ${CUSBI_TASK_DATA_SOURCE_DIR}/*.safetensors)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory $<TARGET_FILE_DIR:${target}>/data/tasks
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${task_files}
            $<TARGET_FILE_DIR:${target}>/data/tasks
    VERBATIM)
endfunction()
