# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The modules of ``tools/analysis_tools/benchmark.py``: its sections
(:mod:`.suite`), the detectors it compares (:mod:`.detectors`), timing,
FLOPs, ceilings and memory (:mod:`.timing_memory`), the data workloads
(:mod:`.workloads`) and its table (:mod:`.report`)."""
