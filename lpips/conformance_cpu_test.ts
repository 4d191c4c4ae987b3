import { conformanceTest } from "./conformance.ts";

// Every lpips case of reference/cases.json on the cpu backend, within 1e-5 absolute. VGG on the
// 256x256 and 512x384 inputs runs with LPIPS_FULL_CONFORMANCE=1 (tens of minutes here).
conformanceTest("cpu", 1e-5, { largeVggOnDemand: true });
