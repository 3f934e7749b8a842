// A model's LoRA adapters as PEFT saves them for an nn.Sequential: adapter_model.safetensors
// holding only the adapters, keyed base_model.model.<index>.lora_A.weight / lora_B.weight
// (<index>.<index> in a nested Sequential), and the adapter_config.json that
// PeftModel.from_pretrained reads beside it.
import { describe } from './errors.js';
import { parameterTensor, type Tensor } from './layer.js';
import { LoRA } from './lora.js';
import { Sequential } from './sequential.js';
import { readSafetensorsInto, writeSafetensors, type Slot } from './serialization.js';

/**
 * The adapters of `model` with their module paths as PEFT names them ('2', or '1.0' in a
 * Sequential nested at 1; an adapter used twice counts once, at its first place). An adapter
 * inside a layer of the user's own has no path to be saved under: refused, rather than left out.
 */
function adaptersOf(where: string, model: Sequential): { path: string; lora: LoRA }[] {
  if (!(model instanceof Sequential)) throw new TypeError(`${where}: model must be a Sequential; got ${describe(model)}`);
  const seen = new Set<LoRA>();
  const visit = (layers: readonly unknown[], prefix: string): { path: string; lora: LoRA }[] => layers.flatMap((layer, index) => {
    if (layer instanceof Sequential) return visit(layer.layers, `${prefix}${index}.`);
    if (!(layer instanceof LoRA) || seen.has(layer)) return [];
    seen.add(layer);
    return [{ path: `${prefix}${index}`, lora: layer }];
  });
  const adapters = visit(model.layers, '');
  const found = new Set<Tensor>(adapters.flatMap(({ lora }) => lora.parameters().map(parameterTensor)));
  const hidden = model.namedParameters().find(({ parameter }) => parameter.name.startsWith('lora_') && !found.has(parameterTensor(parameter)));
  if (hidden) {
    throw new Error(`${where}: ${hidden.name} is of a LoRA inside a layer of your own, with no PEFT module path: put it in the model or a Sequential`);
  }
  if (adapters.length === 0) throw new Error(`${where}: the model has no LoRA adapters`);
  return adapters;
}

function adapterSlots(where: string, model: Sequential): Slot[] {
  return adaptersOf(where, model).flatMap(({ path, lora }) => lora.parameters().map((parameter) => ({
    name: `base_model.model.${path}.${parameter.name}`, parameter, shape: [...parameter.torchShape],
  })));
}

/**
 * The model's adapters, and nothing else, as a safetensors file: float32 tensors named
 * as PEFT names them for an nn.Sequential (`base_model.model.<index>.lora_A.weight`,
 * rank×in; `….lora_B.weight`, out×rank), with PEFT's metadata `{ format: 'pt' }`: the
 * bytes PEFT's save_pretrained writes for the same adapters.
 */
export function saveAdapters(model: Sequential, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const where = 'saveAdapters';
  return writeSafetensors(where, adapterSlots(where, model), metadata);
}

/**
 * Sets the model's adapters from a file `saveAdapters` (or PEFT) wrote: exactly their
 * keys and shapes, in F32, F16 or BF16. The whole file is checked before anything is
 * written, so on an error no adapter changes.
 */
export function loadAdapters(model: Sequential, bytes: Uint8Array | ArrayBuffer): void {
  const where = 'loadAdapters';
  readSafetensorsInto(where, adapterSlots(where, model), bytes);
}

/** The adapter_config.json object of a LoRA model, as PEFT's LoraConfig reads it. */
export interface AdapterConfig {
  peft_type: 'LORA';
  task_type: null;
  base_model_name_or_path: null;
  revision: null;
  inference_mode: boolean;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /**
   * The adapted layers' module paths in the nn.Sequential ('2', '1.0'), as PEFT names its modules; in a model with
   * a nested Sequential, a regular expression PEFT matches whole ('1\.0|2'), as a listed '2' would select '1.2' too.
   */
  target_modules: string[] | string;
  bias: 'none';
  fan_in_fan_out: boolean;
  modules_to_save: null;
  init_lora_weights: boolean;
  layers_to_transform: null;
  layers_pattern: null;
  /** Layers whose rank (alpha) is not r (lora_alpha), by path ('^'-anchored in a nested model, for the same reason). */
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  use_rslora: boolean;
  use_dora: boolean;
}

/**
 * What PEFT needs beside `saveAdapters`' file to load it onto the matching
 * nn.Sequential (`PeftModel.from_pretrained(model, folder)`): r and lora_alpha of the
 * first adapter, the others' where they differ, and the adapted layers' indices.
 */
export function adapterConfig(model: Sequential): AdapterConfig {
  const adapters = adaptersOf('adapterConfig', model);
  const { rank, alpha } = adapters[0]!.lora;
  // PEFT takes a listed module t for every module named t or ending in '.t', and a pattern key t for
  // any matching (.*\.)?(t)$: where models nest, '1' is also '0.1'. There each path is given exactly,
  // dots escaped: target_modules as one expression (PEFT fullmatches a string), pattern keys from ^.
  const nested = model.layers.some((layer) => layer instanceof Sequential);
  const exactly = (path: string) => path.split('.').join('\\.');
  const key = (path: string) => (nested ? `^${exactly(path)}` : path);
  const rankPattern: Record<string, number> = {}, alphaPattern: Record<string, number> = {};
  for (const { path, lora } of adapters) {
    if (lora.rank !== rank) rankPattern[key(path)] = lora.rank;
    if (lora.alpha !== alpha) alphaPattern[key(path)] = lora.alpha;
  }
  const paths = adapters.map(({ path }) => path);
  return {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: null,
    revision: null,
    inference_mode: true,
    r: rank,
    lora_alpha: alpha,
    lora_dropout: 0,
    target_modules: nested ? paths.map(exactly).join('|') : paths,
    bias: 'none',
    fan_in_fan_out: false,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    use_rslora: false,
    use_dora: false,
  };
}
