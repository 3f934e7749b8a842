/** A Linear layer's shape: batch rows of inFeatures in, outFeatures out. */
export interface Shape {
  name: string;
  batch: number;
  inFeatures: number;
  outFeatures: number;
}

const shape = (name: string, batch: number, inFeatures: number, outFeatures: number): Shape =>
  ({ name, batch, inFeatures, outFeatures });

/** Shapes from real models, by set. */
export const shapeSets: Record<string, Shape[]> = {
  core: [
    shape('MNIST MLP hidden', 32, 784, 128),
    shape('mid-size layer', 64, 512, 512),
    shape('wide layer, batch 256', 256, 1024, 1024),
  ],
};

/** Floating-point operations of one product of the layer: 2·B·d_in·d_out. */
export const productFlops = ({ batch, inFeatures, outFeatures }: Shape): number => 2 * batch * inFeatures * outFeatures;

export const label = ({ batch, inFeatures, outFeatures }: Shape): string => `${batch}×${inFeatures}×${outFeatures}`;
