"""Planted mistakes in exercise 4 (L1 and KL sparsity gradients): each must score below full marks with its hint
in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "l1-divides-by-abs": ([("return self.lam * np.sign(self.code) / self.code.shape[0]",
                            "return self.lam * (self.code / np.abs(self.code)) / self.code.shape[0]")],
                          "denominator can be exactly 0"),
    "l1-no-one-over-n": ([("return self.lam * np.sign(self.code) / self.code.shape[0]",
                           "return self.lam * np.sign(self.code)")],
                         "missing 1/N: the penalty is averaged over the batch"),
    "l1-subgradient-at-zero": ([("return self.lam * np.sign(self.code) / self.code.shape[0]",
                                 "return self.lam * np.where(self.code >= 0, 1.0, -1.0) / self.code.shape[0]")],
                               "the subgradient 0"),
    "kl-sign-slip": ([("grad_rho_hat = self.beta * (-rho / r + (1 - rho) / (1 - r))",
                       "grad_rho_hat = self.beta * (rho / r - (1 - rho) / (1 - r))")],
                     "a sign slip in the KL gradient"),
    "kl-one-term-sign-slip": ([("grad_rho_hat = self.beta * (-rho / r + (1 - rho) / (1 - r))",
                                "grad_rho_hat = self.beta * (-rho / r - (1 - rho) / (1 - r))")],
                              "a sign slip in one of the two KL terms"),
    "no-one-over-n": ([("np.tile(grad_rho_hat / self.n, (self.n, 1))", "np.tile(grad_rho_hat, (self.n, 1))")],
                      "missing 1/N: rho_hat_j is the MEAN"),
    "kl-no-beta": ([("grad_rho_hat = self.beta * (-rho / r + (1 - rho) / (1 - r))",
                     "grad_rho_hat = -rho / r + (1 - rho) / (1 - r)")],
                   "the factor beta is missing"),
    "kl-one-row": ([("return np.tile(grad_rho_hat / self.n, (self.n, 1))", "return grad_rho_hat / self.n")],
                   "should have shape (4, 3)"),
    "delegates-to-miniae": ([("        ### BEGIN SOLUTION\n        rho, r",
                              "        ### BEGIN SOLUTION\n        return KLSparsity.backward(self)\n        rho, r"),
                             ("from miniae import Penalty, gradcheck",
                              "from miniae import KLSparsity, Penalty, gradcheck")],
                            "calls miniae's KLSparsity"),
}
