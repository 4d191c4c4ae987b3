import { conformanceTest } from "./conformance.ts";

// Every lpips case of reference/cases.json on the wasm backend, within 1e-5 absolute.
conformanceTest("wasm", 1e-5);
