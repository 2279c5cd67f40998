"""Planted mistakes in exercise 6 (VAE reparameterization and KL gradient): each must score below full marks with
its hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "variance-for-std": ([("return mu + np.exp(0.5 * logvar) * eps", "return mu + np.exp(logvar) * eps"),
                          ("return dz, dz * eps * 0.5 * sigma", "return dz, dz * eps * np.exp(logvar)")],
                         "variance exp(logvar) where the standard deviation"),
    "kl-sign": ([("return mu / n, 0.5 * (np.exp(logvar) - 1) / n", "return -mu / n, -0.5 * (np.exp(logvar) - 1) / n")],
                "sign error"),
    "kl-logvar-sign-term": ([("return mu / n, 0.5 * (np.exp(logvar) - 1) / n",
                              "return mu / n, 0.5 * (np.exp(logvar) + 1) / n")],
                            "sign error in one term"),
    "kl-logvar-sign": ([("return mu / n, 0.5 * (np.exp(logvar) - 1) / n",
                         "return mu / n, 0.5 * (1 - np.exp(logvar)) / n")],
                       "dKL/dlogvar has a sign error"),
    "kl-no-half": ([("return mu / n, 0.5 * (np.exp(logvar) - 1) / n", "return mu / n, (np.exp(logvar) - 1) / n")],
                   "lost its factor 1/2"),
    "kl-no-one-over-n": ([("return mu / n, 0.5 * (np.exp(logvar) - 1) / n", "return mu, 0.5 * (np.exp(logvar) - 1)")],
                         "missing the 1/N of the batch mean"),
    "backward-no-half": ([("return dz, dz * eps * 0.5 * sigma", "return dz, dz * eps * sigma")],
                         "lost the factor 1/2 of the chain rule"),
    "sqrt-of-exp-overflows": ([("return mu + np.exp(0.5 * logvar) * eps", "return mu + np.sqrt(np.exp(logvar)) * eps"),
                               ("sigma = np.exp(0.5 * logvar)", "sigma = np.sqrt(np.exp(logvar))")],
                              "overflow"),
    "delegates-to-miniae": ([("    sigma = np.exp(0.5 * logvar)\n",
                              "    from miniae.vae import reparameterize_backward as theirs\n"
                              "    return theirs(dz, logvar, eps)\n")],
                            "calls miniae's reparameterize_backward"),
}
