# Included by the top-level CMakeLists.txt after the test loop.
#
# engine_test_engine_noalloc routes every allocator call of the statically
# linked code through its __wrap_* counters.
if(TARGET engine_test_engine_noalloc)
  target_link_options(engine_test_engine_noalloc PRIVATE
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=aligned_alloc,--wrap=posix_memalign)
endif()

# helpers of tests/engine/jack_realtime.sh and jack_midi.sh, built beside the
# genwave binary:
#   gw_string_model OUT.gwm   writes the hand-set Karplus-Strong WaveNet
#   gw_jack_record ...        a minimal libjack recorder that counts xruns
#   gw_jack_midi_send ...     sends a note through JACK MIDI at known frames and
#                             records the answer on the same frame clock
add_executable(gw_string_model ${CMAKE_CURRENT_LIST_DIR}/make_string_model.c)
target_include_directories(gw_string_model PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(gw_string_model PRIVATE genwave)
set_target_properties(gw_string_model PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
# gw_render_blocks: the engine driven as a host would, against render (render_engine.sh)
add_executable(gw_render_blocks ${CMAKE_CURRENT_LIST_DIR}/render_blocks.c)
target_link_libraries(gw_render_blocks PRIVATE genwave)
set_target_properties(gw_render_blocks PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
pkg_check_modules(JACK IMPORTED_TARGET jack)
if(JACK_FOUND)
  add_executable(gw_jack_record ${CMAKE_CURRENT_LIST_DIR}/jack_record.c)
  target_link_libraries(gw_jack_record PRIVATE PkgConfig::JACK gw_io)
  set_target_properties(gw_jack_record PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  add_executable(gw_jack_midi_send ${CMAKE_CURRENT_LIST_DIR}/jack_midi_send.c)
  target_link_libraries(gw_jack_midi_send PRIVATE PkgConfig::JACK gw_io)
  set_target_properties(gw_jack_midi_send PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
endif()

# JACK's deadlines are wall-clock: keep other tests off the cores meanwhile
foreach(rt engine_jack_realtime engine_jack_midi)
  if(TEST ${rt})
    set_tests_properties(${rt} PROPERTIES RUN_SERIAL TRUE SKIP_RETURN_CODE 77 LABELS "cli;realtime")
  endif()
endforeach()
