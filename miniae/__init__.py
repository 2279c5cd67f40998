"""miniae: autoencoders from scratch in NumPy, every gradient written by hand and checked."""
from .layers import (Layer, Dense, Activation, Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softplus,
                     Sequential, make_activation)
from .losses import Loss, MSE, BCE
from .penalties import (Penalty, L1Sparsity, KLSparsity, WeightDecay, OrderedWeightDecay, Contractive,
                        jacobian_norm)
from .noise import GaussianNoise, MaskingNoise, SaltPepperNoise
from .optim import SGD, Momentum, Adam
from .models import Autoencoder
from .vae import VAE
from .pca import PCA, principal_angles, components_from_linear_ae
from .compare import train_linear_ae
from .train import (fit, History, Callback, EarlyStopping, LearningRateSchedule, Progress, KLWarmup, fit_lbfgs,
                    stack, train_greedy)
from .validation import MiniaeInputError, DivergenceError
from . import gradcheck

__version__ = "0.1.0"
