"""`spafit-course export`: turn an adapter saved by the course into a standard peft LoRA adapter."""

from __future__ import annotations

import argparse

from .args import check_output_folder, naming_the_model, path_type


def cmd_export(args) -> int:
    from ..runs.models import load_adapted
    from ..tuning.adapters import read_adapter_config, read_adapter_tensors
    from ..tuning.peft_format import PEFT_CONFIG_NAME, PEFT_WEIGHTS_NAME, check_peft_folder, save_peft_adapter
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    info = read_adapter_config(args.adapter)
    read_adapter_tensors(args.adapter, info)  # a damaged adapter fails before the base model loads
    base = args.base_model or info.get("base_model_name")
    if not base:
        raise ValueError(f"adapter {args.adapter} does not name its base model; pass --base-model NAME")
    check_output_folder(args.output, "OUT_FOLDER")
    check_peft_folder(args.output)  # a folder in the place of one of its files
    with naming_the_model(base):
        model = load_adapted(base, args.adapter)
    folder = save_peft_adapter(model, args.output, base_model_name=base)
    print(f"wrote {folder / PEFT_CONFIG_NAME} and {folder / PEFT_WEIGHTS_NAME} (peft LoRA adapter of {base})")
    return 0


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    """Register `spafit-course export`."""
    parser = subparsers.add_parser(
        "export", help="write a saved adapter as a standard peft LoRA adapter (peft loads it without this package)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Load the adapter onto its base model and write OUT_FOLDER/adapter_config.json and\n"
                    "adapter_model.safetensors, a standard peft LoRA adapter: LoRA on SPAFIT's group-3 layers,\n"
                    "the biases that trained, and the task head. peft loads it without spafit_course:\n\n"
                    "  PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(BASE),\n"
                    "                            OUT_FOLDER)\n\n"
                    "A mean-head adapter (the quick profile) needs the mean pooled by hand, as the README shows.")
    parser.add_argument("adapter", type=path_type, metavar="ADAPTER_FOLDER",
                        help="adapter folder, e.g. results/adapters/spafit")
    parser.add_argument("output", type=path_type, metavar="OUT_FOLDER", help="folder for the peft adapter")
    parser.add_argument("--peft", action="store_true", default=True,
                        help="write peft's LoRA format (the default, and so far the only format)")
    parser.add_argument("--base-model", default=None,
                        help="base model name or path (default: the one the adapter was saved with)")
    parser.set_defaults(func=cmd_export)
    return parser
