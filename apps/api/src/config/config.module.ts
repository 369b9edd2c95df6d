import { Global, Inject, Module, type DynamicModule } from '@nestjs/common';
import type { ApiConfig } from '@nova/config';

export const API_CONFIG = Symbol('ApiConfig');

/** Injects the validated configuration the process was started with. */
export const InjectConfig = (): ParameterDecorator => Inject(API_CONFIG);

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ApiConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: API_CONFIG, useValue: config }],
      exports: [API_CONFIG],
    };
  }
}
