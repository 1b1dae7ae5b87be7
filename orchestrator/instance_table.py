"""vCPUs, memory, NVIDIA GPUs and accelerator kind for every SageMaker training instance type: one
entry per value of the botocore SageMaker service model's ``TrainingInstanceType`` enum. An
``ml.X.Y`` type has the specifications of EC2 instance type ``X.Y``; the values come from the AWS
"Amazon EC2 instance type specifications" pages (accelerated computing, general purpose, compute
optimized, memory optimized) and the Amazon SageMaker AI pricing page (vCPU, memory and GPUs per
``ml.*`` type), with AWS's own tables for the newest families (EC2 product pages, the AWS Neuron
documentation for Trainium, the SageMaker HyperPod CLI instance table), and GPU counts
cross-checked against the SageMaker Python SDK's ``image_uri_config/instance_gpu_info.json``.
Memory is in GiB as AWS states it. GPU counts are NVIDIA GPUs only: Trainium chips count 0 and are
marked by the accelerator kind "trainium"; "nvidia" marks NVIDIA GPUs and "" no accelerator.
"""

from __future__ import annotations

# type: (vCPUs, memory GiB, NVIDIA GPUs, accelerator)
INSTANCE_TABLE: dict[str, tuple[int, float, int, str]] = {
    # m4: general purpose, Intel Xeon (Broadwell/Haswell), 4 GiB per vCPU
    "ml.m4.xlarge": (4, 16.0, 0, ""),
    "ml.m4.2xlarge": (8, 32.0, 0, ""),
    "ml.m4.4xlarge": (16, 64.0, 0, ""),
    "ml.m4.10xlarge": (40, 160.0, 0, ""),
    "ml.m4.16xlarge": (64, 256.0, 0, ""),
    # g4dn: NVIDIA T4 16 GB
    "ml.g4dn.xlarge": (4, 16.0, 1, "nvidia"),
    "ml.g4dn.2xlarge": (8, 32.0, 1, "nvidia"),
    "ml.g4dn.4xlarge": (16, 64.0, 1, "nvidia"),
    "ml.g4dn.8xlarge": (32, 128.0, 1, "nvidia"),
    "ml.g4dn.12xlarge": (48, 192.0, 4, "nvidia"),
    "ml.g4dn.16xlarge": (64, 256.0, 1, "nvidia"),
    # m5: general purpose, Intel Xeon (Skylake/Cascade Lake), 4 GiB per vCPU
    "ml.m5.large": (2, 8.0, 0, ""),
    "ml.m5.xlarge": (4, 16.0, 0, ""),
    "ml.m5.2xlarge": (8, 32.0, 0, ""),
    "ml.m5.4xlarge": (16, 64.0, 0, ""),
    "ml.m5.12xlarge": (48, 192.0, 0, ""),
    "ml.m5.24xlarge": (96, 384.0, 0, ""),
    # c4: compute optimized, Intel Xeon (Haswell), 1.875 GiB per vCPU; 8xlarge is 36 vCPUs, 60 GiB
    "ml.c4.xlarge": (4, 7.5, 0, ""),
    "ml.c4.2xlarge": (8, 15.0, 0, ""),
    "ml.c4.4xlarge": (16, 30.0, 0, ""),
    "ml.c4.8xlarge": (36, 60.0, 0, ""),
    # p2: NVIDIA K80 12 GB per GPU (a K80 board holds 2 GPUs; AWS counts GPUs)
    "ml.p2.xlarge": (4, 61.0, 1, "nvidia"),
    "ml.p2.8xlarge": (32, 488.0, 8, "nvidia"),
    "ml.p2.16xlarge": (64, 732.0, 16, "nvidia"),
    # p3: NVIDIA V100 16 GB
    "ml.p3.2xlarge": (8, 61.0, 1, "nvidia"),
    "ml.p3.8xlarge": (32, 244.0, 4, "nvidia"),
    "ml.p3.16xlarge": (64, 488.0, 8, "nvidia"),
    # p3dn: NVIDIA V100 32 GB
    "ml.p3dn.24xlarge": (96, 768.0, 8, "nvidia"),
    # p4d: NVIDIA A100 40 GB
    "ml.p4d.24xlarge": (96, 1152.0, 8, "nvidia"),
    # p4de: NVIDIA A100 80 GB
    "ml.p4de.24xlarge": (96, 1152.0, 8, "nvidia"),
    # p5: NVIDIA H100 80 GB
    "ml.p5.48xlarge": (192, 2048.0, 8, "nvidia"),
    "ml.p5.4xlarge": (16, 256.0, 1, "nvidia"),
    # p5e: NVIDIA H200 141 GB
    "ml.p5e.48xlarge": (192, 2048.0, 8, "nvidia"),
    # p5en: NVIDIA H200 141 GB
    "ml.p5en.48xlarge": (192, 2048.0, 8, "nvidia"),
    # c5: compute optimized, Intel Xeon (Skylake/Cascade Lake), 2 GiB per vCPU
    "ml.c5.xlarge": (4, 8.0, 0, ""),
    "ml.c5.2xlarge": (8, 16.0, 0, ""),
    "ml.c5.4xlarge": (16, 32.0, 0, ""),
    "ml.c5.9xlarge": (36, 72.0, 0, ""),
    "ml.c5.18xlarge": (72, 144.0, 0, ""),
    # c5n: compute optimized, up to 100 Gbps; 2.625 GiB per vCPU, 9xlarge and 18xlarge more
    "ml.c5n.xlarge": (4, 10.5, 0, ""),
    "ml.c5n.2xlarge": (8, 21.0, 0, ""),
    "ml.c5n.4xlarge": (16, 42.0, 0, ""),
    "ml.c5n.9xlarge": (36, 96.0, 0, ""),
    "ml.c5n.18xlarge": (72, 192.0, 0, ""),
    # g5: NVIDIA A10G 24 GB
    "ml.g5.xlarge": (4, 16.0, 1, "nvidia"),
    "ml.g5.2xlarge": (8, 32.0, 1, "nvidia"),
    "ml.g5.4xlarge": (16, 64.0, 1, "nvidia"),
    "ml.g5.8xlarge": (32, 128.0, 1, "nvidia"),
    "ml.g5.16xlarge": (64, 256.0, 1, "nvidia"),
    "ml.g5.12xlarge": (48, 192.0, 4, "nvidia"),
    "ml.g5.24xlarge": (96, 384.0, 4, "nvidia"),
    "ml.g5.48xlarge": (192, 768.0, 8, "nvidia"),
    # g6: NVIDIA L4 24 GB
    "ml.g6.xlarge": (4, 16.0, 1, "nvidia"),
    "ml.g6.2xlarge": (8, 32.0, 1, "nvidia"),
    "ml.g6.4xlarge": (16, 64.0, 1, "nvidia"),
    "ml.g6.8xlarge": (32, 128.0, 1, "nvidia"),
    "ml.g6.16xlarge": (64, 256.0, 1, "nvidia"),
    "ml.g6.12xlarge": (48, 192.0, 4, "nvidia"),
    "ml.g6.24xlarge": (96, 384.0, 4, "nvidia"),
    "ml.g6.48xlarge": (192, 768.0, 8, "nvidia"),
    # g6e: NVIDIA L40S 48 GB
    "ml.g6e.xlarge": (4, 32.0, 1, "nvidia"),
    "ml.g6e.2xlarge": (8, 64.0, 1, "nvidia"),
    "ml.g6e.4xlarge": (16, 128.0, 1, "nvidia"),
    "ml.g6e.8xlarge": (32, 256.0, 1, "nvidia"),
    "ml.g6e.16xlarge": (64, 512.0, 1, "nvidia"),
    "ml.g6e.12xlarge": (48, 384.0, 4, "nvidia"),
    "ml.g6e.24xlarge": (96, 768.0, 4, "nvidia"),
    "ml.g6e.48xlarge": (192, 1536.0, 8, "nvidia"),
    # trn1: AWS Trainium (1 chip on 2xlarge, 16 on 32xlarge); not NVIDIA GPUs
    "ml.trn1.2xlarge": (8, 32.0, 0, "trainium"),
    "ml.trn1.32xlarge": (128, 512.0, 0, "trainium"),
    # trn1n: AWS Trainium (16 chips), 1600 Gbps EFA; not NVIDIA GPUs
    "ml.trn1n.32xlarge": (128, 512.0, 0, "trainium"),
    # trn2: AWS Trainium2 (16 chips); not NVIDIA GPUs
    "ml.trn2.48xlarge": (192, 2048.0, 0, "trainium"),
    # m6i: general purpose, Intel Xeon (Ice Lake), 4 GiB per vCPU
    "ml.m6i.large": (2, 8.0, 0, ""),
    "ml.m6i.xlarge": (4, 16.0, 0, ""),
    "ml.m6i.2xlarge": (8, 32.0, 0, ""),
    "ml.m6i.4xlarge": (16, 64.0, 0, ""),
    "ml.m6i.8xlarge": (32, 128.0, 0, ""),
    "ml.m6i.12xlarge": (48, 192.0, 0, ""),
    "ml.m6i.16xlarge": (64, 256.0, 0, ""),
    "ml.m6i.24xlarge": (96, 384.0, 0, ""),
    "ml.m6i.32xlarge": (128, 512.0, 0, ""),
    # c6i: compute optimized, Intel Xeon (Ice Lake), 2 GiB per vCPU
    "ml.c6i.xlarge": (4, 8.0, 0, ""),
    "ml.c6i.2xlarge": (8, 16.0, 0, ""),
    "ml.c6i.8xlarge": (32, 64.0, 0, ""),
    "ml.c6i.4xlarge": (16, 32.0, 0, ""),
    "ml.c6i.12xlarge": (48, 96.0, 0, ""),
    "ml.c6i.16xlarge": (64, 128.0, 0, ""),
    "ml.c6i.24xlarge": (96, 192.0, 0, ""),
    "ml.c6i.32xlarge": (128, 256.0, 0, ""),
    # r5d: memory optimized with local NVMe, 8 GiB per vCPU
    "ml.r5d.large": (2, 16.0, 0, ""),
    "ml.r5d.xlarge": (4, 32.0, 0, ""),
    "ml.r5d.2xlarge": (8, 64.0, 0, ""),
    "ml.r5d.4xlarge": (16, 128.0, 0, ""),
    "ml.r5d.8xlarge": (32, 256.0, 0, ""),
    "ml.r5d.12xlarge": (48, 384.0, 0, ""),
    "ml.r5d.16xlarge": (64, 512.0, 0, ""),
    "ml.r5d.24xlarge": (96, 768.0, 0, ""),
    # t3: burstable; medium has 4 GiB, larger sizes 4 GiB per vCPU
    "ml.t3.medium": (2, 4.0, 0, ""),
    "ml.t3.large": (2, 8.0, 0, ""),
    "ml.t3.xlarge": (4, 16.0, 0, ""),
    "ml.t3.2xlarge": (8, 32.0, 0, ""),
    # r5: memory optimized, 8 GiB per vCPU
    "ml.r5.large": (2, 16.0, 0, ""),
    "ml.r5.xlarge": (4, 32.0, 0, ""),
    "ml.r5.2xlarge": (8, 64.0, 0, ""),
    "ml.r5.4xlarge": (16, 128.0, 0, ""),
    "ml.r5.8xlarge": (32, 256.0, 0, ""),
    "ml.r5.12xlarge": (48, 384.0, 0, ""),
    "ml.r5.16xlarge": (64, 512.0, 0, ""),
    "ml.r5.24xlarge": (96, 768.0, 0, ""),
    # p6-b200: NVIDIA B200 179 GiB
    "ml.p6-b200.48xlarge": (192, 2048.0, 8, "nvidia"),
    # m7i: general purpose, Intel Xeon (Sapphire Rapids), 4 GiB per vCPU
    "ml.m7i.large": (2, 8.0, 0, ""),
    "ml.m7i.xlarge": (4, 16.0, 0, ""),
    "ml.m7i.2xlarge": (8, 32.0, 0, ""),
    "ml.m7i.4xlarge": (16, 64.0, 0, ""),
    "ml.m7i.8xlarge": (32, 128.0, 0, ""),
    "ml.m7i.12xlarge": (48, 192.0, 0, ""),
    "ml.m7i.16xlarge": (64, 256.0, 0, ""),
    "ml.m7i.24xlarge": (96, 384.0, 0, ""),
    "ml.m7i.48xlarge": (192, 768.0, 0, ""),
    # c7i: compute optimized, Intel Xeon (Sapphire Rapids), 2 GiB per vCPU
    "ml.c7i.large": (2, 4.0, 0, ""),
    "ml.c7i.xlarge": (4, 8.0, 0, ""),
    "ml.c7i.2xlarge": (8, 16.0, 0, ""),
    "ml.c7i.4xlarge": (16, 32.0, 0, ""),
    "ml.c7i.8xlarge": (32, 64.0, 0, ""),
    "ml.c7i.12xlarge": (48, 96.0, 0, ""),
    "ml.c7i.16xlarge": (64, 128.0, 0, ""),
    "ml.c7i.24xlarge": (96, 192.0, 0, ""),
    "ml.c7i.48xlarge": (192, 384.0, 0, ""),
    # r7i: memory optimized, Intel Xeon (Sapphire Rapids), 8 GiB per vCPU
    "ml.r7i.large": (2, 16.0, 0, ""),
    "ml.r7i.xlarge": (4, 32.0, 0, ""),
    "ml.r7i.2xlarge": (8, 64.0, 0, ""),
    "ml.r7i.4xlarge": (16, 128.0, 0, ""),
    "ml.r7i.8xlarge": (32, 256.0, 0, ""),
    "ml.r7i.12xlarge": (48, 384.0, 0, ""),
    "ml.r7i.16xlarge": (64, 512.0, 0, ""),
    "ml.r7i.24xlarge": (96, 768.0, 0, ""),
    "ml.r7i.48xlarge": (192, 1536.0, 0, ""),
    # p6e-gb200: NVIDIA B200 185 GiB in GB200 Grace Blackwell superchips (arm64 Grace CPUs).
    # Values are per instance as AWS documents them; on SageMaker the type is sold as part
    # of a P6e-GB200 UltraServer (NVL72 = 18 instances, NVL36 = 9), each instance 4 GPUs.
    "ml.p6e-gb200.36xlarge": (144, 960.0, 4, "nvidia"),
    # p6-b300: NVIDIA B300 (Blackwell Ultra) 268 GiB
    "ml.p6-b300.48xlarge": (192, 4096.0, 8, "nvidia"),
    # g7e: NVIDIA RTX PRO 6000 Blackwell Server Edition 96 GB
    "ml.g7e.2xlarge": (8, 64.0, 1, "nvidia"),
    "ml.g7e.4xlarge": (16, 128.0, 1, "nvidia"),
    "ml.g7e.8xlarge": (32, 256.0, 1, "nvidia"),
    "ml.g7e.12xlarge": (48, 512.0, 2, "nvidia"),
    "ml.g7e.24xlarge": (96, 1024.0, 4, "nvidia"),
    "ml.g7e.48xlarge": (192, 2048.0, 8, "nvidia"),
    # g7: NVIDIA RTX PRO 4500 Blackwell Server Edition 32 GB
    "ml.g7.2xlarge": (8, 32.0, 1, "nvidia"),
    "ml.g7.4xlarge": (16, 64.0, 1, "nvidia"),
    "ml.g7.8xlarge": (32, 128.0, 1, "nvidia"),
    "ml.g7.12xlarge": (48, 192.0, 2, "nvidia"),
    "ml.g7.24xlarge": (96, 384.0, 4, "nvidia"),
    "ml.g7.48xlarge": (192, 768.0, 8, "nvidia"),
    # r6i: memory optimized, Intel Xeon (Ice Lake), 8 GiB per vCPU
    "ml.r6i.large": (2, 16.0, 0, ""),
    "ml.r6i.xlarge": (4, 32.0, 0, ""),
    "ml.r6i.2xlarge": (8, 64.0, 0, ""),
    "ml.r6i.4xlarge": (16, 128.0, 0, ""),
    "ml.r6i.8xlarge": (32, 256.0, 0, ""),
    "ml.r6i.12xlarge": (48, 384.0, 0, ""),
    "ml.r6i.16xlarge": (64, 512.0, 0, ""),
    "ml.r6i.24xlarge": (96, 768.0, 0, ""),
    "ml.r6i.32xlarge": (128, 1024.0, 0, ""),
    # m8i: general purpose, Intel Xeon 6 (Granite Rapids), 4 GiB per vCPU
    "ml.m8i.large": (2, 8.0, 0, ""),
    "ml.m8i.xlarge": (4, 16.0, 0, ""),
    "ml.m8i.2xlarge": (8, 32.0, 0, ""),
    "ml.m8i.4xlarge": (16, 64.0, 0, ""),
    "ml.m8i.8xlarge": (32, 128.0, 0, ""),
    "ml.m8i.12xlarge": (48, 192.0, 0, ""),
    "ml.m8i.16xlarge": (64, 256.0, 0, ""),
    "ml.m8i.24xlarge": (96, 384.0, 0, ""),
    "ml.m8i.32xlarge": (128, 512.0, 0, ""),
    "ml.m8i.48xlarge": (192, 768.0, 0, ""),
    "ml.m8i.96xlarge": (384, 1536.0, 0, ""),
    # c8i: compute optimized, Intel Xeon 6 (Granite Rapids), 2 GiB per vCPU
    "ml.c8i.xlarge": (4, 8.0, 0, ""),
    "ml.c8i.2xlarge": (8, 16.0, 0, ""),
    "ml.c8i.4xlarge": (16, 32.0, 0, ""),
    "ml.c8i.8xlarge": (32, 64.0, 0, ""),
    "ml.c8i.12xlarge": (48, 96.0, 0, ""),
    "ml.c8i.16xlarge": (64, 128.0, 0, ""),
    "ml.c8i.24xlarge": (96, 192.0, 0, ""),
    "ml.c8i.32xlarge": (128, 256.0, 0, ""),
    "ml.c8i.48xlarge": (192, 384.0, 0, ""),
    "ml.c8i.96xlarge": (384, 768.0, 0, ""),
    # r8i: memory optimized, Intel Xeon 6 (Granite Rapids), 8 GiB per vCPU
    "ml.r8i.large": (2, 16.0, 0, ""),
    "ml.r8i.xlarge": (4, 32.0, 0, ""),
    "ml.r8i.2xlarge": (8, 64.0, 0, ""),
    "ml.r8i.4xlarge": (16, 128.0, 0, ""),
    "ml.r8i.8xlarge": (32, 256.0, 0, ""),
    "ml.r8i.12xlarge": (48, 384.0, 0, ""),
    "ml.r8i.16xlarge": (64, 512.0, 0, ""),
    "ml.r8i.24xlarge": (96, 768.0, 0, ""),
    "ml.r8i.32xlarge": (128, 1024.0, 0, ""),
    "ml.r8i.48xlarge": (192, 1536.0, 0, ""),
    "ml.r8i.96xlarge": (384, 3072.0, 0, ""),
    # m7i-flex: flex general purpose, Intel Xeon (Sapphire Rapids), 4 GiB per vCPU
    "ml.m7i-flex.large": (2, 8.0, 0, ""),
    "ml.m7i-flex.xlarge": (4, 16.0, 0, ""),
    "ml.m7i-flex.2xlarge": (8, 32.0, 0, ""),
    "ml.m7i-flex.4xlarge": (16, 64.0, 0, ""),
    "ml.m7i-flex.8xlarge": (32, 128.0, 0, ""),
    "ml.m7i-flex.12xlarge": (48, 192.0, 0, ""),
    "ml.m7i-flex.16xlarge": (64, 256.0, 0, ""),
    # c7i-flex: flex compute optimized, Intel Xeon (Sapphire Rapids), 2 GiB per vCPU
    "ml.c7i-flex.xlarge": (4, 8.0, 0, ""),
    "ml.c7i-flex.2xlarge": (8, 16.0, 0, ""),
    "ml.c7i-flex.4xlarge": (16, 32.0, 0, ""),
    "ml.c7i-flex.8xlarge": (32, 64.0, 0, ""),
    "ml.c7i-flex.12xlarge": (48, 96.0, 0, ""),
    "ml.c7i-flex.16xlarge": (64, 128.0, 0, ""),
    # m8i-flex: flex general purpose, Intel Xeon 6 (Granite Rapids), 4 GiB per vCPU
    "ml.m8i-flex.large": (2, 8.0, 0, ""),
    "ml.m8i-flex.xlarge": (4, 16.0, 0, ""),
    "ml.m8i-flex.2xlarge": (8, 32.0, 0, ""),
    "ml.m8i-flex.4xlarge": (16, 64.0, 0, ""),
    "ml.m8i-flex.8xlarge": (32, 128.0, 0, ""),
    "ml.m8i-flex.12xlarge": (48, 192.0, 0, ""),
    "ml.m8i-flex.16xlarge": (64, 256.0, 0, ""),
    # c8i-flex: flex compute optimized, Intel Xeon 6 (Granite Rapids), 2 GiB per vCPU
    "ml.c8i-flex.xlarge": (4, 8.0, 0, ""),
    "ml.c8i-flex.2xlarge": (8, 16.0, 0, ""),
    "ml.c8i-flex.4xlarge": (16, 32.0, 0, ""),
    "ml.c8i-flex.8xlarge": (32, 64.0, 0, ""),
    "ml.c8i-flex.12xlarge": (48, 96.0, 0, ""),
    "ml.c8i-flex.16xlarge": (64, 128.0, 0, ""),
    # r8i-flex: flex memory optimized, Intel Xeon 6 (Granite Rapids), 8 GiB per vCPU
    "ml.r8i-flex.large": (2, 16.0, 0, ""),
    "ml.r8i-flex.xlarge": (4, 32.0, 0, ""),
    "ml.r8i-flex.2xlarge": (8, 64.0, 0, ""),
    "ml.r8i-flex.4xlarge": (16, 128.0, 0, ""),
    "ml.r8i-flex.8xlarge": (32, 256.0, 0, ""),
    "ml.r8i-flex.12xlarge": (48, 384.0, 0, ""),
    "ml.r8i-flex.16xlarge": (64, 512.0, 0, ""),
}
