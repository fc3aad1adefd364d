// The two files of a PEFT LoRA adapter folder (what PEFT's save_pretrained writes and
// PeftModel.from_pretrained reads): the engine reads and writes them, the extension keeps
// them per workspace. Names only, so the extension can import them without the engine.
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';
