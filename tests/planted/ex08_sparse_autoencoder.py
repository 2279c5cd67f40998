"""Planted mistakes in exercise 8 (the UFLDL sparse autoencoder's cost and gradient): each must score below full
marks with its hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "no-sparsity-delta": ([("delta2 = (delta3 @ W2.T + sparsity_delta) * a2", "delta2 = (delta3 @ W2.T) * a2")],
                          "sparsity term's gradient"),
    "weight-decay-no-half": ([("weight_decay = 0.5 * lam * (", "weight_decay = lam * (")], "lost its factor 1/2"),
    "sparsity-delta-sign": ([("sparsity_delta = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))",
                              "sparsity_delta = beta * (rho / rho_hat - (1 - rho) / (1 - rho_hat))")],
                            "sparsity term's gradient has a sign error"),
    "sparsity-delta-over-n": ([("delta2 = (delta3 @ W2.T + sparsity_delta) * a2",
                                "delta2 = (delta3 @ W2.T + sparsity_delta / n) * a2")],
                              "divided by N twice"),
    "sparsity-delta-after-derivative": ([("delta2 = (delta3 @ W2.T + sparsity_delta) * a2 * (1 - a2)",
                                          "delta2 = (delta3 @ W2.T) * a2 * (1 - a2) + sparsity_delta")],
                                        "added after the sigmoid's derivative"),
    "no-output-sigmoid-derivative": ([("delta3 = (a3 - X) * a3 * (1 - a3)", "delta3 = a3 - X")],
                                     "lost the output sigmoid's derivative"),
    "weight-decay-on-biases": ([("b2_grad = delta3.sum(axis=0) / n", "b2_grad = delta3.sum(axis=0) / n + lam * b2"),
                                ("b1_grad = delta2.sum(axis=0) / n", "b1_grad = delta2.sum(axis=0) / n + lam * b1")],
                               "the weight decay reaches the biases"),
    "delegates-to-miniae": ([("    ### BEGIN SOLUTION\n",
                              "    ### BEGIN SOLUTION\n"
                              "    from miniae import Autoencoder, KLSparsity, Sequential, WeightDecay\n"
                              "    from miniae import Dense as D, Sigmoid as S\n"
                              "    model = Autoencoder(Sequential(D(n_visible, n_hidden), S()), "
                              "Sequential(D(n_hidden, n_visible), S()), loss='mse', "
                              "penalties=[KLSparsity(rho=rho, beta=2 * beta / n_visible), "
                              "WeightDecay(lam=lam / n_visible)])\n"
                              "    model.theta[...] = theta\n"
                              "    return model.loss_and_grads(X) * n_visible / 2, model.grad * (n_visible / 2)\n")],
                            "calls miniae's"),
}
