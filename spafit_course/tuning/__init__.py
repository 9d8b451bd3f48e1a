"""The tuning library: which parameters train, and how (lessons 01, 02 and 04).

Architectures and input validation, freezing, BitFit, LoRA, the SPAFIT stratifier, parameter counts and their
closed forms, and adapter files, in the course's format and in peft's LoRA format. It imports torch, transformers
and safetensors (and peft, inside `load_peft_adapter` only), and nothing else of this package: a practitioner can
take this part alone. `spafit_course` re-exports its public API.
"""
