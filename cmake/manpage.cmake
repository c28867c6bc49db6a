# Builds the man page infabric(1) from the program's own help texts, so the page cannot drift from
# the options the binary accepts. -DBIN=<infabric> -DOUT=<infabric.1> -DVERSION=<x.y.z>
function(help_of var)
  execute_process(COMMAND "${BIN}" help ${ARGN} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "manpage: '${BIN} help ${ARGN}' exited ${rc}")
  endif()
  # roff: backslashes doubled, a leading . or ' escaped so no line reads as a request
  string(REPLACE "\\" "\\e" out "${out}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" out "${out}")
  set(${var} "${out}" PARENT_SCOPE)
endfunction()
help_of(top)
help_of(run_help run)
help_of(bench_help bench)
help_of(check_help check)
string(TIMESTAMP date "%Y-%m-%d" UTC) # honours SOURCE_DATE_EPOCH (reproducible builds)
file(WRITE "${OUT}" ".TH INFABRIC 1 \"${date}\" \"infabric ${VERSION}\" \"User Commands\"
.SH NAME
infabric \\- packet-level simulator of RoCEv2 and InfiniBand fabrics for MoE inference serving
.SH SYNOPSIS
.B infabric
.I command
.RI [ options ]
.SH DESCRIPTION
.nf
${top}
.fi
.SH \"INFABRIC RUN\"
.nf
${run_help}
.fi
.SH \"INFABRIC BENCH\"
.nf
${bench_help}
.fi
.SH \"INFABRIC CHECK\"
.nf
${check_help}
.fi
.SH FILES
.TP
.I PREFIX/share/infabric/
scenarios, model configurations, kernel timing tables and request traces (the scenarios, models
and kernel tables are also built into the binary and found by name from any directory)
.SH \"SEE ALSO\"
The scenario keys: PREFIX/share/doc/infabric/scenario.md; the outputs: outputs.md.
")
