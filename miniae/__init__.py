"""miniae: autoencoders from scratch in NumPy, every gradient written by hand and checked."""
from . import gradcheck
from .claims import ClaimError, claim
from .layers import (
    Activation,
    Dense,
    Identity,
    Layer,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    make_activation,
)
from .losses import BCE, MSE, Loss
from .models import Autoencoder
from .noise import GaussianNoise, MaskingNoise, SaltPepperNoise
from .optim import SGD, Adam, Momentum
from .pca import PCA, components_from_linear_ae, principal_angles
from .penalties import Contractive, KLSparsity, L1Sparsity, OrderedWeightDecay, Penalty, WeightDecay, jacobian_norm
from .train import (
    Callback,
    EarlyStopping,
    History,
    KLWarmup,
    LearningRateSchedule,
    Progress,
    fit,
    fit_lbfgs,
    stack,
    train_greedy,
    train_linear_ae,
)
from .vae import VAE
from .validation import DivergenceError, MiniaeInputError

__version__ = "0.1.0"
