"""The networks of DPIG's released DeepFashion and Market-1501 configurations
(``run_DF_train.sh`` / ``run_market_train.sh`` in
charliememory/Disentangled-Person-Image-Generation)."""

from tfposegen.models.dpig.networks.appearance import BodyROIEncoder, FgBgEncoder, UAEGenerator
from tfposegen.models.dpig.networks.critics import DCGANCritic, FCCritic
from tfposegen.models.dpig.networks.pose import GaussianFCMapping, PoseAutoEncoder
from tfposegen.utils import saving


def network_specs(dataset="df"):
    """The networks of the released DeepFashion or Market-1501 configuration.

    Flags of the scripts: hidden (conv_hidden_num) 128, z_num 64, 7 parts of 32 dims;
    DeepFashion 256x256 (encoder 7 stages, generator 5), Market 128x64 (5 and 5).

    Args:
        dataset: "df" or "market".

    Returns:
        dict key -> (class, kwargs). DF keys: encoder (models 101 / 1001 / 1002),
        encoder_roi48 (the variant of 103 / 104), generator, critic, pose_ae, app_mapping
        (Gaussian_FC), pose_mapping (PoseGaussian), app_critic (FCDis_), pose_critic
        (Pose_emb_). Market keys: encoder, generator, critic, pose_ae, fg_mapping, bg_mapping,
        pose_mapping, fg_critic, bg_critic, pose_critic.
    """
    common = {
        "critic": (DCGANCritic, {"name": "critic"}),
        "pose_ae": (PoseAutoEncoder, {"name": "pose_ae"}),
        "pose_mapping": (GaussianFCMapping, {"dim": 32, "tf_scope": "PoseGaussian/G_FC",
                                             "name": "pose_mapping"}),
        "pose_critic": (FCCritic, {"input_dim": 32, "prefix": "Pose_emb_",
                                   "name": "pose_critic"}),
    }
    if dataset == "df":
        return {
            "encoder": (BodyROIEncoder, {"name": "encoder"}),
            "encoder_roi48": (BodyROIEncoder, {"use_visibility": False, "roi_size": 48,
                                               "name": "encoder_roi48"}),
            "generator": (UAEGenerator, {"name": "generator"}),
            **common,
            "app_mapping": (GaussianFCMapping, {"dim": 224, "name": "app_mapping"}),
            "app_critic": (FCCritic, {"input_dim": 224, "prefix": "FCDis_",
                                      "name": "app_critic"}),
        }
    if dataset == "market":
        return {
            "encoder": (FgBgEncoder, {"name": "encoder"}),
            "generator": (UAEGenerator, {"image_shape": (128, 64), "embed_dim": 352,
                                         "name": "generator"}),
            **common,
            "fg_mapping": (GaussianFCMapping, {"dim": 224, "tf_scope": "Gaussian_FC_Fg/G_FC",
                                               "name": "fg_mapping"}),
            "bg_mapping": (GaussianFCMapping, {"dim": 128, "hidden": 256,
                                               "tf_scope": "Gaussian_FC_Bg/G_FC",
                                               "name": "bg_mapping"}),
            "fg_critic": (FCCritic, {"input_dim": 224, "prefix": "Fg_FCDis_",
                                     "name": "fg_critic"}),
            "bg_critic": (FCCritic, {"input_dim": 128, "prefix": "Bg_FCDis_",
                                     "name": "bg_critic"}),
        }
    raise ValueError(f"dataset must be 'df' or 'market', got {dataset!r}")


def build_networks(dataset="df", keys=None):
    """Build networks of ``network_specs(dataset)`` with fresh (TF1-style) initial weights.

    Args:
        dataset: "df" or "market".
        keys: iterable of keys to build (default all).

    Returns:
        dict key -> Keras model.
    """
    specs = network_specs(dataset)
    keys = list(specs) if keys is None else list(keys)
    unknown = sorted(set(keys) - set(specs))
    if unknown:
        raise ValueError(f"unknown {dataset} network(s) {unknown}; known: {sorted(specs)}")
    return {k: specs[k][0](**specs[k][1]) for k in keys}


NETWORK_CLASSES = {cls.__name__: cls for cls in (
    BodyROIEncoder, FgBgEncoder, UAEGenerator, PoseAutoEncoder, GaussianFCMapping, DCGANCritic,
    FCCritic)}


def save_networks(networks, out_dir, dataset):
    """Save trained DPIG networks in the library's saved form
    (:func:`tfposegen.utils.saving.save_networks`), atomically.

    Args:
        networks: dict key -> model, keys as :func:`network_specs` (e.g. "encoder",
            "generator").
        out_dir: folder to write.
        dataset: "df" or "market", stored with them.
    """
    saving.save_networks(networks, out_dir, metadata={"system": "dpig", "dataset": dataset})


def load_networks(path):
    """Load networks written by :func:`save_networks`.

    Returns:
        ``(networks, dataset)``: dict key -> model with its weights, and "df" / "market".
    """
    networks, meta, _ = saving.load_networks(path, NETWORK_CLASSES)
    return networks, meta.get("dataset")
