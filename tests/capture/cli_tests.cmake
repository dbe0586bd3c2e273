# Black-box tests of the crashkit-capture command line: exit codes (sysexits, see
# src/capture_cli/capture_commands.hpp), the one-line messages, and the files left behind.
#
# This file has two roles. Included from tests/capture/CMakeLists.txt it registers the tests.
# Run with `cmake -P` it is the checker each test runs: one command, its exit code, regular
# expressions its stdout+stderr must (or must not) match, and files that must (or must not)
# exist afterwards. Lists inside -D values are separated by "@@" (regexes use ";" and "|").
#
#   CK_PREP      shell command run first with sh -c (copies, truncation, byte patches)
#   CK_CMD       the command under test, arguments separated by "@@"
#   CK_STDIN     file fed to its standard input
#   CK_STDOUT    file receiving its standard output (then not matched)
#   CK_RC        expected exit code
#   CK_MATCH     regexes that must all match the output
#   CK_NOMATCH   regexes that must not match
#   CK_EXISTS    paths that must exist afterwards
#   CK_ABSENT    paths that must not exist afterwards
#   CK_HEAD      "path@@hex" - the file must start with these bytes
#   CK_SAME      "a@@b" - the two files must be byte-identical

if(CMAKE_SCRIPT_MODE_FILE)
  function(ck_split var)
    string(REPLACE "@@" ";" out "${${var}}")
    set(${var} "${out}" PARENT_SCOPE)
  endfunction()
  if(DEFINED CK_PREP AND NOT CK_PREP STREQUAL "")
    execute_process(COMMAND sh -c "${CK_PREP}" RESULT_VARIABLE prep_rc
                    OUTPUT_VARIABLE prep_out ERROR_VARIABLE prep_out)
    if(NOT prep_rc EQUAL 0)
      message(FATAL_ERROR "preparation failed (${prep_rc}): ${CK_PREP}\n${prep_out}")
    endif()
  endif()
  ck_split(CK_CMD)
  set(io_args)
  if(DEFINED CK_STDIN AND NOT CK_STDIN STREQUAL "")
    list(APPEND io_args INPUT_FILE "${CK_STDIN}")
  endif()
  if(DEFINED CK_STDOUT AND NOT CK_STDOUT STREQUAL "")
    list(APPEND io_args OUTPUT_FILE "${CK_STDOUT}")
  else()
    list(APPEND io_args OUTPUT_VARIABLE out)
  endif()
  execute_process(COMMAND ${CK_CMD} ${io_args} RESULT_VARIABLE rc ERROR_VARIABLE err)
  set(all "${out}${err}")
  string(REPLACE ";" " " shown "${CK_CMD}")
  set(problems "")
  if(NOT "${rc}" STREQUAL "${CK_RC}")
    string(APPEND problems "exit code ${rc}, expected ${CK_RC}\n")
  endif()
  if(DEFINED CK_MATCH)
    ck_split(CK_MATCH)
    foreach(re IN LISTS CK_MATCH)
      if(NOT all MATCHES "${re}")
        string(APPEND problems "output does not match '${re}'\n")
      endif()
    endforeach()
  endif()
  if(DEFINED CK_NOMATCH)
    ck_split(CK_NOMATCH)
    foreach(re IN LISTS CK_NOMATCH)
      if(all MATCHES "${re}")
        string(APPEND problems "output matches '${re}'\n")
      endif()
    endforeach()
  endif()
  if(DEFINED CK_EXISTS)
    ck_split(CK_EXISTS)
    foreach(p IN LISTS CK_EXISTS)
      if(NOT EXISTS "${p}")
        string(APPEND problems "${p} does not exist\n")
      endif()
    endforeach()
  endif()
  if(DEFINED CK_ABSENT)
    ck_split(CK_ABSENT)
    foreach(p IN LISTS CK_ABSENT)
      if(EXISTS "${p}")
        string(APPEND problems "${p} exists\n")
      endif()
    endforeach()
  endif()
  if(DEFINED CK_HEAD)
    ck_split(CK_HEAD)
    list(GET CK_HEAD 0 path)
    list(GET CK_HEAD 1 want)
    string(LENGTH "${want}" hexlen)
    math(EXPR nbytes "${hexlen} / 2")
    if(EXISTS "${path}")
      file(READ "${path}" got LIMIT ${nbytes} HEX)
    else()
      set(got "(missing)")
    endif()
    if(NOT got STREQUAL want)
      string(APPEND problems "${path} starts with ${got}, expected ${want}\n")
    endif()
  endif()
  if(DEFINED CK_SAME)
    ck_split(CK_SAME)
    list(GET CK_SAME 0 a)
    list(GET CK_SAME 1 b)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${a}" "${b}" RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      string(APPEND problems "${a} and ${b} differ\n")
    endif()
  endif()
  if(NOT problems STREQUAL "")
    message(FATAL_ERROR "${shown}\n${problems}--- output ---\n${all}")
  endif()
  message(STATUS "ok: ${shown} -> ${rc}")
  return()
endif()

# ---- registration ----------------------------------------------------------------------------

if(NOT TARGET crashkit-capture)
  return()
endif()

set(CK_CLI_DIR ${CMAKE_CURRENT_BINARY_DIR}/cli-work)
set(CK_CLI_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
set(CK_CAP $<TARGET_FILE:crashkit-capture>)

# ck_cli_test(NAME RC <rc> CMD <args...> [MATCH <re>...] [NOMATCH <re>...] [PREP <sh>]
#             [STDIN f] [STDOUT f] [EXISTS p...] [ABSENT p...] [HEAD path hex] [SAME a b]
#             [CORE])  -- CORE: needs the fixture cores made by capture_cli_setup.
function(ck_cli_test name)
  cmake_parse_arguments(T "CORE" "RC;PREP;STDIN;STDOUT" "CMD;MATCH;NOMATCH;EXISTS;ABSENT;HEAD;SAME"
                        ${ARGN})
  set(defs -DCK_RC=${T_RC})
  foreach(v CMD MATCH NOMATCH EXISTS ABSENT HEAD SAME)
    if(DEFINED T_${v})
      string(REPLACE ";" "@@" joined "${T_${v}}")
      list(APPEND defs "-DCK_${v}=${joined}")
    endif()
  endforeach()
  foreach(v PREP STDIN STDOUT)
    if(DEFINED T_${v})
      list(APPEND defs "-DCK_${v}=${T_${v}}")
    endif()
  endforeach()
  add_test(NAME capture_cli_${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${CK_CLI_SCRIPT}
           WORKING_DIRECTORY ${CK_CLI_DIR})
  set_tests_properties(capture_cli_${name} PROPERTIES TIMEOUT 60 LABELS "capture;cli")
  if(T_CORE)
    set_tests_properties(capture_cli_${name} PROPERTIES FIXTURES_REQUIRED capture_cli_cores)
  else()
    set_tests_properties(capture_cli_${name} PROPERTIES FIXTURES_REQUIRED capture_cli_dir)
  endif()
endfunction()

# A clean work directory, then small fixture cores (24 MiB of RAM, every page kind).
add_test(NAME capture_cli_workdir
         COMMAND sh -c "rm -rf '${CK_CLI_DIR}' && mkdir -p '${CK_CLI_DIR}'")
set_tests_properties(capture_cli_workdir PROPERTIES FIXTURES_SETUP "capture_cli_dir"
                     LABELS "capture;cli")
add_test(NAME capture_cli_cleanup COMMAND ${CMAKE_COMMAND} -E rm -rf ${CK_CLI_DIR})
set_tests_properties(capture_cli_cleanup PROPERTIES FIXTURES_CLEANUP "capture_cli_dir;capture_cli_cores"
                     LABELS "capture;cli")
if(TARGET crashkit-make-fixture)
  set(CK_MK $<TARGET_FILE:crashkit-make-fixture>)
  add_test(NAME capture_cli_setup
           COMMAND sh -c "'${CK_MK}' --ram-mib 24 --mix core.vmcore >/dev/null && '${CK_MK}' --ram-mib 24 --mix --no-vmcoreinfo --era 6.12 noinfo.vmcore >/dev/null && '${CK_MK}' --ram-mib 24 --mix --set-key 'OFFSET(page.flags)=1048576' badflags.vmcore >/dev/null"
           WORKING_DIRECTORY ${CK_CLI_DIR})
  set_tests_properties(capture_cli_setup PROPERTIES FIXTURES_SETUP capture_cli_cores
                       FIXTURES_REQUIRED capture_cli_dir LABELS "capture;cli")
endif()

set(D ${CK_CLI_DIR})

# --- usage (64) and help (0) ---
ck_cli_test(help RC 0 CMD ${CK_CAP} --help
            MATCH "dump-level" "VMCORE OUTPUT" "-c" "--compress")
ck_cli_test(version RC 0 CMD ${CK_CAP} --version MATCH "crashkit-capture [0-9]")
ck_cli_test(usage_no_args RC 64 CMD ${CK_CAP}
            MATCH "^crashkit-capture: [^\n]*VMCORE OUTPUT")
ck_cli_test(usage_one_arg RC 64 CMD ${CK_CAP} ${D}/core.vmcore
            MATCH "crashkit-capture: .*VMCORE OUTPUT" ABSENT ${D}/core.vmcore.incomplete)
ck_cli_test(usage_three_args RC 64 CMD ${CK_CAP} a b c MATCH "crashkit-capture: ")
ck_cli_test(usage_two_compressions RC 64 CMD ${CK_CAP} -c -l ${D}/core.vmcore ${D}/u1
            MATCH "one compression" ABSENT ${D}/u1 ${D}/u1.incomplete)
ck_cli_test(usage_letter_and_long_compression RC 64
            CMD ${CK_CAP} -z --compress lzo ${D}/core.vmcore ${D}/u2
            MATCH "one compression" ABSENT ${D}/u2)
ck_cli_test(usage_elf_compressed RC 64 CMD ${CK_CAP} -E -c ${D}/core.vmcore ${D}/u3
            MATCH "ELF.*compress" ABSENT ${D}/u3 ${D}/u3.incomplete)
ck_cli_test(usage_elf_zstd RC 64 CMD ${CK_CAP} -E --compress zstd ${D}/core.vmcore ${D}/u4
            MATCH "ELF.*compress")
ck_cli_test(usage_level_too_big RC 64 CMD ${CK_CAP} -d 32 ${D}/core.vmcore ${D}/u5
            MATCH "'32' is not a dump level 0..31" ABSENT ${D}/u5)
ck_cli_test(usage_level_negative RC 64 CMD ${CK_CAP} -d -1 ${D}/core.vmcore ${D}/u6
            MATCH "crashkit-capture: ")
ck_cli_test(usage_level_word RC 64 CMD ${CK_CAP} -d abc ${D}/core.vmcore ${D}/u7
            MATCH "'abc' is not a dump level")
ck_cli_test(usage_level_list_bad_item RC 64 CMD ${CK_CAP} -d 11,3x ${D}/core.vmcore ${D}/u8
            MATCH "'3x' is not a dump level")
ck_cli_test(usage_level_trailing_garbage RC 64 CMD ${CK_CAP} -d 7z ${D}/core.vmcore ${D}/u9
            MATCH "'7z' is not a dump level")
ck_cli_test(usage_bad_compress_name RC 64 CMD ${CK_CAP} --compress gzip ${D}/core.vmcore ${D}/u10
            MATCH "crashkit-capture: [^\n]*gzip")
ck_cli_test(usage_bad_format RC 64 CMD ${CK_CAP} --format tar ${D}/core.vmcore ${D}/u11
            MATCH "crashkit-capture: ")
ck_cli_test(usage_zero_threads RC 64 CMD ${CK_CAP} --threads 0 ${D}/core.vmcore ${D}/u12
            MATCH "crashkit-capture: ")
ck_cli_test(usage_unknown_option RC 64 CMD ${CK_CAP} --frobnicate ${D}/core.vmcore ${D}/u13
            MATCH "frobnicate")
ck_cli_test(usage_reassemble_two_args RC 64 CMD ${CK_CAP} -R a b MATCH "-R takes exactly one")
ck_cli_test(usage_modes_exclusive RC 64 CMD ${CK_CAP} -R -F x MATCH "exclude each other")
ck_cli_test(usage_flat_and_format RC 64 CMD ${CK_CAP} -F --format elf x MATCH "either")
ck_cli_test(usage_dmesg_args RC 64 CMD ${CK_CAP} --dump-dmesg x MATCH "--dump-dmesg takes")

# --- missing input (66) ---
ck_cli_test(missing_input RC 66 CMD ${CK_CAP} ${D}/no-such.vmcore ${D}/m1
            MATCH "^crashkit-capture: [^\n]*no-such.vmcore" "No such file"
            ABSENT ${D}/m1)
# A capture that could not even open its input leaves nothing behind, not an empty
# OUTPUT.incomplete that looks like a partial dump.
ck_cli_test(missing_input_leaves_no_incomplete RC 66 CMD ${CK_CAP} ${D}/no-such.vmcore ${D}/m2
            ABSENT ${D}/m2 ${D}/m2.incomplete)
ck_cli_test(missing_input_dmesg RC 66 CMD ${CK_CAP} --dump-dmesg ${D}/no-such.vmcore ${D}/m4
            MATCH "no-such.vmcore" ABSENT ${D}/m4)

# --- malformed input (65), naming the offset ---
ck_cli_test(malformed_truncated RC 65 CORE
            PREP "cp core.vmcore trunc.vmcore && truncate -s 8000000 trunc.vmcore"
            CMD ${CK_CAP} trunc.vmcore ${D}/b1
            MATCH "^crashkit-capture: [^\n]*trunc.vmcore: PT_LOAD #[0-9]+ at offset 0x[0-9a-f]+"
                  "truncated"
            ABSENT ${D}/b1)
ck_cli_test(malformed_not_elf RC 65 CORE
            PREP "printf 'hello, not a core' > text.vmcore"
            CMD ${CK_CAP} text.vmcore ${D}/b2
            MATCH "text.vmcore: not an ELF file" "offset 0" ABSENT ${D}/b2)
ck_cli_test(malformed_empty RC 65 CORE PREP ": > empty.vmcore"
            CMD ${CK_CAP} empty.vmcore ${D}/b3 MATCH "empty.vmcore: not an ELF" ABSENT ${D}/b3)
ck_cli_test(malformed_elf32 RC 65 CORE
            PREP "cp core.vmcore e32.vmcore && printf '\\001' | dd of=e32.vmcore bs=1 seek=4 conv=notrunc 2>/dev/null"
            CMD ${CK_CAP} e32.vmcore ${D}/b4 MATCH "ELF64" ABSENT ${D}/b4)
ck_cli_test(malformed_filesz RC 65 CORE
            PREP "cp core.vmcore fsz.vmcore && printf '\\377\\377\\377\\377\\377\\377' | dd of=fsz.vmcore bs=1 seek=208 conv=notrunc 2>/dev/null"
            CMD ${CK_CAP} fsz.vmcore ${D}/b5
            MATCH "PT_LOAD #2 at offset 0x[0-9a-f]+" "past the end of the file" ABSENT ${D}/b5)
ck_cli_test(malformed_note RC 65 CORE
            PREP "cp core.vmcore note.vmcore && printf '\\360\\377\\377\\377' | dd of=note.vmcore bs=1 seek=4096 conv=notrunc 2>/dev/null"
            CMD ${CK_CAP} note.vmcore ${D}/b6
            MATCH "note at file offset 0x1000" ABSENT ${D}/b6)
ck_cli_test(malformed_stream RC 65 CORE
            PREP "'${CK_CAP}' -F -d 31 core.vmcore > s1.flat && head -c 30000 s1.flat > s1-cut.flat"
            CMD ${CK_CAP} -R ${D}/r1 STDIN ${D}/s1-cut.flat
            MATCH "<stdin>: [^\n]*at offset 0x[0-9a-f]+" ABSENT ${D}/r1)
ck_cli_test(malformed_stream_not_flat RC 65 CORE
            CMD ${CK_CAP} -R ${D}/r2 STDIN ${D}/core.vmcore
            MATCH "makedumpfile" ABSENT ${D}/r2)

# --- existing output (73) ---
ck_cli_test(exists_refused RC 73 CORE PREP "printf keep > ex1"
            CMD ${CK_CAP} -d 31 core.vmcore ${D}/ex1
            MATCH "ex1: output exists" "-f" HEAD ${D}/ex1 6b656570 ABSENT ${D}/ex1.incomplete)
ck_cli_test(exists_forced RC 0 CORE PREP "printf keep > ex2"
            CMD ${CK_CAP} -f -d 31 core.vmcore ${D}/ex2
            HEAD ${D}/ex2 4b44554d50202020 ABSENT ${D}/ex2.incomplete)
ck_cli_test(exists_reassemble RC 73 CORE PREP "printf keep > ex3 && '${CK_CAP}' -F -d 31 core.vmcore > s3.flat"
            CMD ${CK_CAP} -R ${D}/ex3 STDIN ${D}/s3.flat MATCH "exists" HEAD ${D}/ex3 6b656570)
# The fixture has no printk ring: --dump-dmesg names the missing keys (70, unsupported).
ck_cli_test(dmesg_unsupported RC 70 CORE CMD ${CK_CAP} --dump-dmesg core.vmcore ${D}/dm1
            MATCH "core.vmcore: [^\n]*SYMBOL\\(prb\\)" ABSENT ${D}/dm1 ${D}/dm1.incomplete)

# --- successful runs ---
ck_cli_test(dump_kdump RC 0 CORE CMD ${CK_CAP} -d 31 -z core.vmcore ${D}/ok1
            HEAD ${D}/ok1 4b44554d50202020 ABSENT ${D}/ok1.incomplete)
ck_cli_test(dump_elf RC 0 CORE CMD ${CK_CAP} -E -d 31 core.vmcore ${D}/ok2
            HEAD ${D}/ok2 7f454c4602 ABSENT ${D}/ok2.incomplete)
ck_cli_test(dump_json RC 0 CORE CMD ${CK_CAP} --json -d 17 -l core.vmcore ${D}/ok3
            MATCH "\"dump_level\": ?17," "\"compression\": ?\"lzo\"" "\"format\": ?\"kdump\"")
# An OSRELEASE that is not UTF-8 (0xff in place of its first byte) still gives valid JSON.
ck_cli_test(dump_json_bad_utf8 RC 0 CORE
            PREP "LC_ALL=C sed 's/OSRELEASE=[0-9]/OSRELEASE=\\xff/' core.vmcore > badutf8.vmcore"
            CMD ${CK_CAP} --json -d 31 ${D}/badutf8.vmcore ${D}/ok5
            MATCH "\"osrelease\": ?\"[^0-9\"]" EXISTS ${D}/ok5)
ck_cli_test(dump_no_vmcoreinfo RC 0 CORE CMD ${CK_CAP} --json -d 31 noinfo.vmcore ${D}/ok4
            MATCH "VMCOREINFO" "\"dump_level\": ?1," "\"requested_dump_level\": ?31,")
# An impossible VMCOREINFO value: the level achieved, the one asked for and why, in the JSON and
# in the summary, and the dump is written.
ck_cli_test(dump_impossible_offset RC 0 CORE CMD ${CK_CAP} --json -d 31 badflags.vmcore ${D}/ok4b
            MATCH "\"dump_level\": ?1," "\"requested_dump_level\": ?31,"
                  "\"dump_level_reasons\": ?.\"[^\"]*OFFSET\\(page.flags\\)=1048576"
                  "Dump level 1 applied instead of the 31 requested"
            ABSENT ${D}/ok4b.incomplete)
# --low-memory (what the capture init picks below 160 MiB available) only shrinks the batches
# and the identical-page table: without identical-page sharing, and in ELF, the dump is the same.
ck_cli_test(low_memory_kdump_same RC 0 CORE
            PREP "'${CK_CAP}' -d 31 -c --no-dedup --threads 2 core.vmcore lm_normal"
            CMD ${CK_CAP} -d 31 -c --no-dedup --threads 2 --low-memory ${D}/core.vmcore ${D}/lm_low
            SAME ${D}/lm_normal ${D}/lm_low)
ck_cli_test(low_memory_elf_same RC 0 CORE
            PREP "'${CK_CAP}' -E -d 31 --threads 2 core.vmcore lm_elf_normal"
            CMD ${CK_CAP} -E -d 31 --threads 2 --low-memory ${D}/core.vmcore ${D}/lm_elf_low
            SAME ${D}/lm_elf_normal ${D}/lm_elf_low)
ck_cli_test(flat_reassembles_to_direct RC 0 CORE
            PREP "'${CK_CAP}' -d 31 -c --threads 1 core.vmcore direct5 && '${CK_CAP}' -F -d 31 -c --threads 2 core.vmcore > s5.flat"
            CMD ${CK_CAP} -R ${D}/re5 STDIN ${D}/s5.flat
            SAME ${D}/re5 ${D}/direct5 ABSENT ${D}/re5.incomplete)
ck_cli_test(flat_stdout_header RC 0 CORE CMD ${CK_CAP} -F -d 31 core.vmcore STDOUT ${D}/s6.flat
            HEAD ${D}/s6.flat 6d616b6564756d7066696c6500000000)
