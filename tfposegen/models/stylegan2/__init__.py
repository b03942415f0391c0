"""StyleGAN2 (NVlabs config-e/f) in Keras 3: mapping, synthesis, generator, discriminator."""

from tfposegen.models.stylegan2.layers import EqualizedConv2D, EqualizedDense, ModulatedConv2D
from tfposegen.models.stylegan2.networks import (
                                               Discriminator,
                                               Generator,
                                               MappingNetwork,
                                               SynthesisNetwork,
                                               stage_channels,
)
from tfposegen.models.stylegan2.presets import PRESETS, build_stylegan2

__all__ = ["Discriminator", "EqualizedConv2D", "EqualizedDense", "Generator",
           "MappingNetwork", "ModulatedConv2D", "PRESETS", "SynthesisNetwork",
           "build_stylegan2", "stage_channels"]
