import { conformanceTest } from "./conformance.ts";

// Every lpips case of reference/cases.json on the webgpu backend, within 1e-4 absolute. VGG on the
// 256x256 and 512x384 inputs runs with LPIPS_FULL_CONFORMANCE=1 or =webgpu (25+ minutes on
// lavapipe beside the rest of the suite, so CI leaves them on demand; onnx and wasm run them).
conformanceTest("webgpu", 1e-4, { largeVggOnDemand: true });
