from setuptools import find_packages, setup

setup(
    name="tfposegen",
    version="0.1.0",
    description="Person-image generation (DGP, DPIG, ...) on TensorFlow 2 / Keras 3",
    packages=find_packages(include=["tfposegen", "tfposegen.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16,<2.22",
        "keras>=3.3",
        "numpy",
        "pillow",
        "scipy",
        "absl-py",
        "h5py",
        "opencv-python-headless>=4.5",  # DGP's cubic resize and mask morphology, as the original
        "imageio>=2.15",
        "imageio-ffmpeg>=0.4.7",  # the ffmpeg binary for DGP's MP4 videos
        "tensorboard",  # tf.summary in the training scripts (TF no longer pulls it in)
    ],
    package_data={"tfposegen.serving": ["static/*.html"]},
    extras_require={
        "web": ["flask>=3", "waitress>=3"],  # run_scripts/shopper/websvc.py
        "test": ["pytest", "pytest-xdist", "flask>=3", "waitress>=3", "selenium>=4.10"],
    },
)
